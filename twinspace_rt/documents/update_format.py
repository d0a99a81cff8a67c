"""A bounded reader of Yjs v1 updates, run before any client bytes reach pycrdt.

Yrs decodes an update's ``Any`` values (map entries, array items, attributes) recursively, in
native code: an update of a few hundred kilobytes that nests arrays 100 000 deep overflows the
stack and kills the whole process with a segmentation fault, which no ``except`` can catch.
So every update is first read here, in Python, against the v1 layout (lib0 encoding, the
``Item`` info byte, the delete set), with a cap on how deep ``Any`` values and JSON nest, on
how many structs an update may hold, and on every length against the bytes that remain.
Anything that does not read to the last byte is refused whole.
"""

from __future__ import annotations

from twinspace_rt.ws.json_depth import nests_deeper

# An editor's attributes are a few levels deep (y-prosemirror: mark → attrs → value).
ANY_DEPTH_MAX = 64
# Every struct costs a few bytes, so this only bounds work on a hostile update.
STRUCTS_MAX = 1_000_000
_VAR_UINT_BYTES_MAX = 10  # a u64, as Yrs reads them

# Item content refs (yjs/src/structs/Item.js: contentRefs).
_GC, _DELETED, _JSON, _BINARY, _STRING, _EMBED, _FORMAT, _TYPE, _ANY, _DOC, _SKIP = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
)
# Type refs that carry a name (yjs: YXmlElementRefID = 3, YXmlHookRefID = 5); 0..6 exist.
_NAMED_TYPES = {3, 5}
_TYPE_REF_MAX = 6
_FIXED_ANY = {124: 4, 123: 8, 122: 8}  # float32, float64, bigint
_EMPTY_ANY = {127, 126, 121, 120}  # undefined, null, false, true


class UpdateFormatError(ValueError):
    """The bytes are not a Yjs v1 update within the limits."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise UpdateFormatError("the update ends early")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def var_uint(self) -> int:
        value = shift = 0
        for _ in range(_VAR_UINT_BYTES_MAX):
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise UpdateFormatError("a number is too long")

    def var_int(self) -> None:
        """lib0's signed varint: a sign bit in the first byte, then 7 bits per byte."""
        byte = self.byte()
        for _ in range(_VAR_UINT_BYTES_MAX):
            if byte < 0x80:
                return
            byte = self.byte()
        raise UpdateFormatError("a number is too long")

    def skip(self, length: int) -> None:
        if length > len(self.data) - self.pos:
            raise UpdateFormatError("a length runs past the end of the update")
        self.pos += length

    def var_bytes(self) -> None:
        self.skip(self.var_uint())

    def var_string(self) -> str:
        length = self.var_uint()
        start = self.pos
        self.skip(length)
        try:
            return self.data[start : self.pos].decode()
        except UnicodeDecodeError as exc:
            raise UpdateFormatError("a string is not UTF-8") from exc

    def count(self, limit: int = STRUCTS_MAX) -> int:
        """A count of things that each take at least one byte: never more than what remains."""
        value = self.var_uint()
        if value > min(limit, len(self.data) - self.pos):
            raise UpdateFormatError("a count is larger than the update")
        return value


def check(update: bytes) -> None:
    """Raises `UpdateFormatError` unless ``update`` is one whole v1 update within the limits."""
    reader = _Reader(update)
    structs = 0
    for _ in range(reader.count()):
        count = reader.count()
        structs += count
        if structs > STRUCTS_MAX:
            raise UpdateFormatError("too many structs in one update")
        reader.var_uint()  # client
        reader.var_uint()  # clock
        for _ in range(count):
            _struct(reader)
    for _ in range(reader.count()):  # the delete set
        reader.var_uint()
        for _ in range(reader.count()):
            reader.var_uint()
            reader.var_uint()
    if reader.pos != len(update):
        raise UpdateFormatError("trailing bytes after the update")


def _struct(reader: _Reader) -> None:
    info = reader.byte()
    ref = info & 0x1F
    if ref in (_GC, _SKIP):
        reader.var_uint()
        return
    if info & 0x80:  # origin
        reader.var_uint()
        reader.var_uint()
    if info & 0x40:  # right origin
        reader.var_uint()
        reader.var_uint()
    if not info & 0xC0:
        if reader.var_uint() == 1:
            reader.var_string()  # a root's name
        else:
            reader.var_uint()  # the parent item's id
            reader.var_uint()
        if info & 0x20:
            reader.var_string()  # the map key
    _content(reader, ref)


def _content(reader: _Reader, ref: int) -> None:
    if ref == _DELETED:
        reader.var_uint()
    elif ref == _JSON:
        for _ in range(reader.count()):
            _json_text(reader.var_string())
    elif ref == _BINARY:
        reader.var_bytes()
    elif ref == _STRING:
        reader.var_string()
    elif ref == _EMBED:
        _json_text(reader.var_string())
    elif ref == _FORMAT:
        reader.var_string()
        _json_text(reader.var_string())
    elif ref == _TYPE:
        type_ref = reader.var_uint()
        if type_ref > _TYPE_REF_MAX:
            raise UpdateFormatError("unknown shared type")
        if type_ref in _NAMED_TYPES:
            reader.var_string()
    elif ref == _ANY:
        for _ in range(reader.count()):
            _any(reader)
    elif ref == _DOC:
        reader.var_string()
        _any(reader)
    else:
        raise UpdateFormatError(f"unknown content {ref}")


def _any(reader: _Reader) -> None:
    """Walks one ``Any`` value without recursion. Each open level holds how many values are
    left in it and whether each is preceded by its key (an object)."""
    levels = [[1, 0]]
    while levels:
        level = levels[-1]
        if level[0] == 0:
            levels.pop()
            continue
        level[0] -= 1
        if level[1]:
            reader.var_string()
        tag = reader.byte()
        if tag in _EMPTY_ANY:
            continue
        if tag in _FIXED_ANY:
            reader.skip(_FIXED_ANY[tag])
        elif tag == 125:
            reader.var_int()
        elif tag in (119, 116):  # string, bytes
            reader.var_bytes()
        elif tag in (118, 117):  # object, array
            length = reader.count()
            if len(levels) >= ANY_DEPTH_MAX:
                raise UpdateFormatError(f"values nest deeper than {ANY_DEPTH_MAX}")
            levels.append([length, 1 if tag == 118 else 0])
        else:
            raise UpdateFormatError(f"unknown value tag {tag}")


def _json_text(text: str) -> None:
    """JSON held as text (embeds, formats, legacy JSON content): only its nesting is checked
    here; whether it parses is up to Yrs, which then refuses it with an ordinary error."""
    if nests_deeper(text, ANY_DEPTH_MAX):
        raise UpdateFormatError(f"values nest deeper than {ANY_DEPTH_MAX}")


def check_state_vector(vector: bytes) -> None:
    """A state vector: a count, then (client, clock) pairs, and nothing after them."""
    reader = _Reader(vector)
    for _ in range(reader.count()):
        reader.var_uint()
        reader.var_uint()
    if reader.pos != len(vector):
        raise UpdateFormatError("trailing bytes after the state vector")
