import importlib.util

# These tests need the image venv (torch + open-clip-torch); the main suite has neither.
collect_ignore = [] if importlib.util.find_spec("open_clip") else ["test_open_clip_encoder.py"]
