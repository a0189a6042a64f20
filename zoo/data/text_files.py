"""Reading a data file as text, with one clear error for binary files and other encodings."""

from pathlib import Path

from zoo.errors import ZooError

UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def read_utf8(path, kind):
    """Returns the text of `path`, refusing what is not UTF-8 text in one line.

    Args:
        path: path of an existing file.
        kind: str. What the file should be, for the message (".ts", "CSV").
    """
    data = Path(path).read_bytes()
    if data.startswith(UTF16_MARKS):
        raise ZooError(f"{path} is UTF-16 text: save it as UTF-8 (a {kind} file is read as UTF-8).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ZooError(
            f"{path} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}): pass a {kind} file "
            "saved as UTF-8 text."
        ) from None
    if "\x00" in text:
        raise ZooError(f"{path} holds NUL bytes, so it is binary, not a {kind} text file: pass a {kind} file.")
    return text
