"""Streaming XML reading for the GPX and TCX decoders that refuses XML bombs and stays fast.

Activity files come from anywhere (a download, a friend, an old archive), so a file must not be
able to expand entities (billion laughs) or make the parser read another file (XXE). defusedxml
guards against both, but its `iterparse` runs ElementTree's pure-Python parser, measured 1.6×
slower than the C one at merely pulling the points out of the sample corpus. The decoders instead
take expat's element callbacks directly: no tree is built at all, so memory stays flat for any
file length, and with full summaries computed they still outrun defusedxml's bare extraction.

Every dangerous construct needs a DOCTYPE, and XML allows one only before the root element. So
defusedxml's parser (with `forbid_dtd=True`) reads each chunk first, until the root element
opens; the expat parser that calls the decoder reads only what that guard has passed, and from
the root element on no DOCTYPE can come: any entity reference other than the five predefined ones
is then an "undefined entity" error, never an expansion or a file read. Both are the same expat
library reading the same bytes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser as DefusedXMLParser

from tracekit.files.summary import ActivityFileError

CHUNK_SIZE = 64 * 1024
REFUSED_ENTITIES = "refused: the file declares XML entities (possible XML bomb)"

_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"

StartHandler = Callable[[str, dict[str, str]], None]
EndHandler = Callable[[str], None]
TextHandler = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class XmlRoot:
    """The root element as the prolog check saw it open."""

    namespace: str  # the namespace URI, "" for none
    name: str
    attrib: dict[str, str]

    def tag(self, name: str) -> str:
        """How expat names an element `name` of the root's namespace in the callbacks."""
        return f"{self.namespace}}}{name}" if self.namespace else name


class XmlFile:
    """An XML stream whose prolog passed the check, ready to be read once with `parse`."""

    def __init__(self, stream: BinaryIO) -> None:
        """Read up to the root element; raises ActivityFileError for an empty, non-XML or
        DOCTYPE-carrying file."""
        self._stream = stream
        self._parser = expat.ParserCreate(namespace_separator="}")
        self._parser.buffer_text = True
        self._parser.buffer_size = CHUNK_SIZE
        # The guard reads each chunk before the parser does. The chunks before the root element
        # hold only the prolog, which the parser may read at once; the chunk in which the root
        # opens waits for `parse`, when the caller's callbacks are in place.
        guard = DefusedXMLParser(target=_RootSpotter(), forbid_dtd=True)
        chunk = _first_chunk(stream)
        try:
            while True:
                guard.feed(chunk)
                self._parser.Parse(chunk, False)
                chunk = _read(stream)
                if not chunk:
                    raise ActivityFileError("not valid XML: the file ends before its first element")
        except _RootOpened as opened:
            self.root = opened.root
            self._pending = chunk
        except DefusedXmlException:
            raise ActivityFileError(REFUSED_ENTITIES) from None
        except (ParseError, expat.ExpatError, LookupError) as error:  # LookupError: encoding
            raise ActivityFileError(f"not valid XML: {error}") from None

    def parse(self, start: StartHandler, end: EndHandler, text: TextHandler) -> None:
        """Stream the rest of the document, from the root element on, through the callbacks.

        Elements of a namespace are named "uri}name" (see `XmlRoot.tag`); `text` receives the
        character data, adjacent pieces joined. Malformed XML raises ActivityFileError.
        """
        parser = self._parser
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        try:
            parser.Parse(self._pending, False)
            while chunk := _read(self._stream):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except (expat.ExpatError, LookupError) as error:
            raise ActivityFileError(f"not valid XML: {error}") from None


def _read(stream: BinaryIO) -> bytes:
    try:
        return stream.read(CHUNK_SIZE)
    except OSError as error:
        raise ActivityFileError(f"could not read the file: {error}") from None


def _first_chunk(stream: BinaryIO) -> bytes:
    """The first bytes of the document without a UTF-8 BOM and leading whitespace.

    Garmin Connect exports some TCX files with spaces before `<?xml`, which XML forbids; the
    declaration is otherwise fine, so the whitespace is dropped instead of refusing the file.
    """
    chunk = _read(stream).removeprefix(_UTF8_BOM).lstrip(_WHITESPACE)
    while not chunk:
        more = _read(stream)
        if not more:
            raise ActivityFileError("empty file")
        chunk = more.lstrip(_WHITESPACE)
    return chunk


class _RootOpened(Exception):
    """Stops the guard at the root element: no DOCTYPE can follow it."""

    def __init__(self, tag: str, attrib: dict[str, str]) -> None:
        super().__init__(tag)
        if tag.startswith("{"):  # ElementTree spells a namespaced tag "{uri}name"
            namespace, _, name = tag[1:].partition("}")
            self.root = XmlRoot(namespace, name, attrib)
        else:
            self.root = XmlRoot("", tag, attrib)


class _RootSpotter:
    """Parser target that only notices the root element opening."""

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootOpened(tag, attrib)
