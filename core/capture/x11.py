"""Active-window information on X11 via python-xlib (EWMH, with ICCCM fallbacks)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.capture.screen import check_display_env
from core.errors import CaptureError, NoDisplay
from core.types import ActiveWindow

if TYPE_CHECKING:
    from Xlib.display import Display

# Longest property we read, in 32-bit units (1 MiB): one request, no second round trip.
_MAX_PROPERTY_LONGS = 1 << 18
# How many parents we climb from the input-focus window to find the client window.
_MAX_TREE_DEPTH = 32
_POINTER_ROOT = 1  # X.PointerRoot


def _process_name(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


class X11WindowInfo:
    """Tells which window is active on an X11 display.

    Reads ``_NET_ACTIVE_WINDOW`` from the root window (EWMH window managers) and falls
    back to ``XGetInputFocus`` when there is no such window manager. A window that
    vanishes while it is queried yields ``None``, never an exception. One Display
    connection is opened lazily and reused; :meth:`close` releases it.
    """

    def __init__(self, display: str | None = None) -> None:
        self._display_name = display
        self._display: Display | None = None
        self._atoms: dict[str, int] = {}

    # -- connection -------------------------------------------------------------------
    def _connection(self) -> Display:
        if self._display is None:
            if self._display_name is None:
                check_display_env()
            from Xlib import error
            from Xlib.display import Display

            try:
                self._display = Display(self._display_name)
            except (error.DisplayError, error.XauthError, error.XNoAuthError, OSError) as exc:
                raise NoDisplay(
                    "Cannot connect to the X display for window information; "
                    "check that DISPLAY points at your running X11 session."
                ) from exc
            except TypeError as exc:
                # python-xlib 0.33 fails while registering RandR events on servers running
                # real Xinerama (e.g. ``Xvfb +xinerama``).
                raise CaptureError(
                    "python-xlib cannot talk to this X server (Xinerama with RandR); "
                    "window titles are unavailable on this setup."
                ) from exc
        return self._display

    def _atom(self, name: str) -> int:
        atom = self._atoms.get(name)
        if atom is None:
            atom = int(self._connection().intern_atom(name))
            self._atoms[name] = atom
        return atom

    def close(self) -> None:
        if self._display is not None:
            try:
                self._display.close()
            except OSError:
                pass  # the server already went away; nothing left to release
            self._display = None
            self._atoms.clear()

    def __enter__(self) -> X11WindowInfo:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- queries ----------------------------------------------------------------------
    def active_window(self) -> ActiveWindow | None:
        """The focused top-level window, or ``None`` when there is none (or it vanished)."""
        from Xlib import error

        display = self._connection()
        try:
            window_id = self._active_window_id()
            if window_id is None:
                return None
            return self._describe(display.create_resource_object("window", window_id))
        except (error.BadWindow, error.BadDrawable, error.BadMatch):
            return None  # the window was destroyed while we asked about it
        except error.ConnectionClosedError as exc:
            self._display = None
            self._atoms.clear()
            raise CaptureError("The X server closed the connection") from exc
        except error.XError as exc:
            raise CaptureError("Reading the active window from X11 failed") from exc

    def visible_windows(self) -> list[ActiveWindow]:
        """Every mapped top-level client window, bottom to top (EWMH
        ``_NET_CLIENT_LIST_STACKING``), with its geometry; [] without an EWMH window
        manager. Windows that vanish while they are queried are left out."""
        from Xlib import X, error

        display = self._connection()
        try:
            prop = self._property(display.screen().root, "_NET_CLIENT_LIST_STACKING")
        except error.ConnectionClosedError as exc:
            self._display = None
            self._atoms.clear()
            raise CaptureError("The X server closed the connection") from exc
        except error.XError as exc:
            raise CaptureError("Reading the window list from X11 failed") from exc
        if prop is None or prop.format != 32:
            return []
        out: list[ActiveWindow] = []
        for window_id in prop.value:
            try:
                window = display.create_resource_object("window", int(window_id))
                if window.get_attributes().map_state != X.IsViewable:
                    continue  # minimised or on another desktop
                out.append(self._describe(window))
            except (error.BadWindow, error.BadDrawable, error.BadMatch):
                continue
            except error.XError as exc:
                raise CaptureError("Reading the window list from X11 failed") from exc
        return out

    def _active_window_id(self) -> int | None:
        display = self._connection()
        root = display.screen().root
        prop = self._property(root, "_NET_ACTIVE_WINDOW")
        if prop is not None:
            ids = list(prop.value)
            return int(ids[0]) if ids and ids[0] else None
        # No EWMH window manager: the focus may be a child of the client window.
        focus = display.get_input_focus().focus
        if isinstance(focus, int) or int(focus.id) in (0, _POINTER_ROOT, int(root.id)):
            return None
        return self._client_ancestor(focus, int(root.id))

    def _client_ancestor(self, window: Any, root_id: int) -> int:
        """Climb from ``window`` to the first ancestor carrying a WM_CLASS (the client)."""
        candidate = window
        for _ in range(_MAX_TREE_DEPTH):
            if self._property(candidate, "WM_CLASS") is not None:
                return int(candidate.id)
            parent = candidate.query_tree().parent
            if isinstance(parent, int) or int(parent.id) in (0, root_id):
                break
            candidate = parent
        return int(window.id)

    def _property(self, window: Any, name: str) -> Any:
        from Xlib import X

        return window.get_property(self._atom(name), X.AnyPropertyType, 0, _MAX_PROPERTY_LONGS)

    def _text(self, window: Any, name: str) -> str | None:
        prop = self._property(window, name)
        if prop is None or prop.format != 8:
            return None
        raw = prop.value
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
        if prop.property_type == self._atom("UTF8_STRING"):
            return data.decode("utf-8", errors="replace")
        if prop.property_type == self._atom("STRING"):
            return data.decode("latin-1")
        # COMPOUND_TEXT and others: plain ASCII titles decode fine; anything else degrades.
        return data.decode("utf-8", errors="replace")

    def _pid(self, window: Any) -> int | None:
        prop = self._property(window, "_NET_WM_PID")
        if prop is None or prop.format != 32 or len(prop.value) < 1:
            return None
        pid = int(prop.value[0])
        return pid if pid > 0 else None

    def _describe(self, window: Any) -> ActiveWindow:
        title = self._text(window, "_NET_WM_NAME")
        if title is None:
            title = self._text(window, "WM_NAME") or ""
        wm_class_raw = self._text(window, "WM_CLASS") or ""
        parts = wm_class_raw.split("\0")
        wm_instance = parts[0] if parts else ""
        wm_class = parts[1] if len(parts) > 1 else wm_instance
        pid = self._pid(window)
        app = (_process_name(pid) if pid is not None else None) or wm_class or wm_instance

        root = self._connection().screen().root
        geometry = window.get_geometry()
        origin = root.translate_coords(window, 0, 0)
        return ActiveWindow(
            app=app,
            title=title.strip("\0"),
            pid=pid,
            wm_class=wm_class,
            left=int(origin.x),
            top=int(origin.y),
            width=int(geometry.width),
            height=int(geometry.height),
        )
