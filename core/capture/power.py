"""Is this machine running on battery? (Linux: /sys/class/power_supply)."""

from __future__ import annotations

from pathlib import Path

SYSFS_POWER = Path("/sys/class/power_supply")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def on_battery(root: Path = SYSFS_POWER) -> bool:
    """True when a battery is discharging and no mains adapter is online.

    A desktop (no battery) or an unreadable sysfs reads as "not on battery".
    """
    try:
        supplies = list(root.iterdir())
    except OSError:
        return False
    mains_online = False
    discharging = False
    for supply in supplies:
        kind = _read(supply / "type")
        if kind == "Mains" and _read(supply / "online") == "1":
            mains_online = True
        elif kind == "Battery" and _read(supply / "scope") != "Device":
            # scope=Device: a mouse or headset battery, not the machine's
            if _read(supply / "status") == "Discharging":
                discharging = True
    return discharging and not mains_online
