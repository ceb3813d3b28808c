"""Write a file that must not exist yet, atomically: readers never see half of it, and nothing
already on disk is replaced."""

import os


def write_new_file(path: str, text: str) -> None:
    """Write ``text`` to ``path``; FileExistsError if ``path`` exists (also if another process
    creates it meanwhile: ``os.link`` fails rather than replace it)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp_path = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp_path, "w", encoding="utf-8") as file:
            file.write(text)
        os.link(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
