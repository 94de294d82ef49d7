"""Whether a reader can see a run's text, resolved as Word resolves formatting: document defaults, then the paragraph
style and the styles it is based on, then the character style and its bases, then the run's own properties; text
colour (theme colours with their tint and shade included) against what is behind it — the run's highlight or shading,
the paragraph's or table cell's shading, the page colour — by contrast; hidden text; and size.

A term concealed this way still binds whoever signs, so the review must show it whatever it says."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from document_io.wordml import w

A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
MIN_READABLE_HALF_POINTS = 6  # text under 3 pt cannot be read on paper or on screen at 100%
MIN_CONTRAST = 1.4  # WCAG contrast ratio under which text disappears into what is behind it (FFFFFE or F2F2F2 on white)
_HIGHLIGHT = {"black": "000000", "blue": "0000FF", "cyan": "00FFFF", "green": "00FF00", "magenta": "FF00FF",
              "red": "FF0000", "yellow": "FFFF00", "white": "FFFFFF", "darkBlue": "000080", "darkCyan": "008080",
              "darkGreen": "008000", "darkMagenta": "800080", "darkRed": "800000", "darkYellow": "808000",
              "darkGray": "808080", "lightGray": "C0C0C0"}
_THEME_SLOTS = {"dark1": "dk1", "text1": "dk1", "light1": "lt1", "background1": "lt1", "dark2": "dk2", "text2": "dk2",
                "light2": "lt2", "background2": "lt2", "hyperlink": "hlink", "followedHyperlink": "folHlink",
                **{f"accent{i}": f"accent{i}" for i in range(1, 7)}}


@dataclass
class Look:
    """The properties that decide visibility, each None where nothing set it."""

    vanish: bool | None = None
    color: str | None = None  # RRGGBB, or "auto"
    size: int | None = None  # half-points
    highlight: str | None = None  # RRGGBB
    shading: str | None = None  # RRGGBB behind the text

    def over(self, lower: Look) -> Look:
        """This look on top of `lower`: what this one sets wins."""
        return Look(*(mine if mine is not None else theirs for mine, theirs in zip(self._values(), lower._values())))

    def _values(self):
        return (self.vanish, self.color, self.size, self.highlight, self.shading)


@dataclass
class _Style:
    kind: str
    based_on: str | None
    run: Look
    paragraph_shading: str | None


@dataclass
class Visibility:
    """Built once per document from word/styles.xml, the theme and the document's page colour."""

    styles: dict[str, _Style] = field(default_factory=dict)
    defaults: Look = field(default_factory=Look)
    default_paragraph_style: str | None = None
    default_character_style: str | None = None
    theme: dict[str, str] = field(default_factory=dict)
    page: str = "FFFFFF"
    resolved: dict[str | None, Look] = field(default_factory=dict)  # style id -> its run look, bases included

    @classmethod
    def of(cls, document_root: etree._Element | None, styles_xml: bytes | None, theme_xml: bytes | None) -> Visibility:
        from document_io.docx_package import _PARSER

        seen = cls(theme=_theme_colours(etree.fromstring(theme_xml, _PARSER)) if theme_xml else {})
        if document_root is not None and (background := document_root.find(w("background"))) is not None:
            seen.page = seen._colour(background, "color", "themeColor") or "FFFFFF"
        if not styles_xml:
            return seen
        root = etree.fromstring(styles_xml, _PARSER)
        defaults = root.find(f"{w('docDefaults')}/{w('rPrDefault')}/{w('rPr')}")
        seen.defaults = seen._look(defaults)
        for style in root.iter(w("style")):
            style_id, kind = style.get(w("styleId")), style.get(w("type"))
            if not style_id:
                continue
            based = style.find(w("basedOn"))
            shading = style.find(f"{w('pPr')}/{w('shd')}")
            seen.styles[style_id] = _Style(kind=kind or "", based_on=based.get(w("val")) if based is not None else None,
                                           run=seen._look(style.find(w("rPr"))),
                                           paragraph_shading=seen._shading(shading))
            if style.get(w("default")) in ("1", "true", "on"):
                if kind == "paragraph":
                    seen.default_paragraph_style = style_id
                elif kind == "character":
                    seen.default_character_style = style_id
        return seen

    # --- per run --------------------------------------------------------------------------------------

    def concealment(self, run: etree._Element, paragraph: etree._Element) -> str | None:
        """How the run's text is kept from a reader, or None when a reader sees it."""
        paragraph_style = _val(paragraph.find(f"{w('pPr')}/{w('pStyle')}")) or self.default_paragraph_style
        character_style = _val(run.find(f"{w('rPr')}/{w('rStyle')}")) or self.default_character_style
        look = self._look(run.find(w("rPr"))).over(self._chain(character_style)).over(self._chain(paragraph_style)).over(self.defaults)
        if look.vanish:
            return "hidden text" + ("" if run.find(f"{w('rPr')}/{w('vanish')}") is not None else " (by its style)")
        if look.size is not None and look.size < MIN_READABLE_HALF_POINTS:
            return f"text of {look.size / 2:g} pt"
        if look.color in (None, "auto"):
            return None  # automatic colour: Word picks black or white against what is behind it
        behind = look.highlight or look.shading or self._paragraph_shading(paragraph, paragraph_style) \
            or _cell_shading(paragraph, self) or self.page
        if _contrast(look.color, behind) < MIN_CONTRAST:
            return "white text" if look.color.upper() == "FFFFFF" and behind.upper() == "FFFFFF" else \
                f"text coloured #{look.color.upper()} on #{behind.upper()}"
        return None

    def _chain(self, style_id: str | None) -> Look:
        """A style's run properties over those of the styles it is based on (cycles cut); resolved once per style, since
        every run of the document asks."""
        if style_id not in self.resolved:
            self.resolved[style_id] = self._resolve(style_id)
        return self.resolved[style_id]

    def _resolve(self, style_id: str | None) -> Look:
        look, seen = Look(), set()
        while style_id and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            look = look.over(self.styles[style_id].run)  # the derived style's settings win over its base's
            style_id = self.styles[style_id].based_on
        return look

    def _paragraph_shading(self, paragraph: etree._Element, style_id: str | None) -> str | None:
        direct = self._shading(paragraph.find(f"{w('pPr')}/{w('shd')}"))
        if direct:
            return direct
        seen = set()
        while style_id and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            if self.styles[style_id].paragraph_shading:
                return self.styles[style_id].paragraph_shading
            style_id = self.styles[style_id].based_on
        return None

    # --- reading properties ---------------------------------------------------------------------------

    def _look(self, properties: etree._Element | None) -> Look:
        if properties is None:
            return Look()
        vanish = properties.find(w("vanish"))
        size = properties.find(w("sz"))
        highlight = _val(properties.find(w("highlight")))
        return Look(
            vanish=None if vanish is None else vanish.get(w("val"), "true") not in ("0", "false", "off"),
            color=self._colour(properties.find(w("color")), "val", "themeColor"),
            size=int(size.get(w("val"))) if size is not None and (size.get(w("val")) or "").isdigit() else None,
            highlight=_HIGHLIGHT.get(highlight) if highlight and highlight != "none" else None,
            shading=self._shading(properties.find(w("shd"))))

    def _shading(self, shading: etree._Element | None) -> str | None:
        if shading is None:
            return None
        pattern = shading.get(w("val")) or "clear"
        if pattern == "solid":  # the pattern's colour covers everything
            return self._colour(shading, "color", "themeColor") or "000000"
        fill = self._colour(shading, "fill", "themeFill")
        return None if fill in (None, "auto") else fill

    def _colour(self, element: etree._Element | None, attribute: str, theme_attribute: str) -> str | None:
        if element is None:
            return None
        theme = element.get(w(theme_attribute))
        if theme and (slot := _THEME_SLOTS.get(theme)) and slot in self.theme:
            base = self.theme[slot]
            tint = element.get(w(theme_attribute.replace("Color", "Tint").replace("Fill", "FillTint")))
            shade = element.get(w(theme_attribute.replace("Color", "Shade").replace("Fill", "FillShade")))
            return _tinted(base, tint, shade)
        value = (element.get(w(attribute)) or "").strip()
        if value.lower() == "auto":
            return "auto"
        return value.upper() if len(value) == 6 and all(c in "0123456789abcdefABCDEF" for c in value) else None


def _val(element: etree._Element | None) -> str | None:
    return element.get(w("val")) if element is not None else None


def _cell_shading(paragraph: etree._Element, seen: Visibility) -> str | None:
    for ancestor in paragraph.iterancestors(w("tc")):
        if (fill := seen._shading(ancestor.find(f"{w('tcPr')}/{w('shd')}"))) is not None:
            return fill
    return None


def _theme_colours(theme: etree._Element) -> dict[str, str]:
    colours = {}
    scheme = theme.find(f".//{{{A_NS}}}clrScheme")
    if scheme is None:
        return colours
    for slot in scheme:
        name = etree.QName(slot).localname
        value = slot.find(f"{{{A_NS}}}srgbClr")
        system = slot.find(f"{{{A_NS}}}sysClr")
        if value is not None and value.get("val"):
            colours[name] = value.get("val").upper()
        elif system is not None and system.get("lastClr"):
            colours[name] = system.get("lastClr").upper()
    return colours


def _tinted(base: str, tint: str | None, shade: str | None) -> str:
    channels = [int(base[i:i + 2], 16) for i in (0, 2, 4)]
    if tint and len(tint) == 2:
        share = int(tint, 16) / 255
        channels = [round(c * share + 255 * (1 - share)) for c in channels]
    if shade and len(shade) == 2:
        share = int(shade, 16) / 255
        channels = [round(c * share) for c in channels]
    return "".join(f"{c:02X}" for c in channels)


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i:i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(text: str, behind: str) -> float:
    """The WCAG contrast ratio of two colours (1: identical, 21: black on white)."""
    if behind == "auto":
        behind = "FFFFFF"
    lighter, darker = sorted((_luminance(text), _luminance(behind)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
