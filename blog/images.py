"""Images: uploads checked and cleaned, and what pages show of them (renditions, share cards)."""

from functools import cache
from io import BytesIO
from pathlib import Path
from threading import Lock
from uuid import uuid4

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.db.models.fields.files import ImageFieldFile
from PIL import Image, ImageCms, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

# The formats we store, as Pillow names them: (extension, content type).
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
# An image is decoded whole into memory (4 bytes a pixel, more while re-encoding), so
# its size is checked from the header first. 40 megapixels is more than a 5 MB JPEG
# usually holds; an animation's frames count together.
MAX_PIXELS = 40_000_000
MAX_SIDE = 10_000
MAX_FRAMES = 1_000
QUALITY = 85  # JPEG and WebP: what markdownx uses, and invisible on the page

NOT_AN_IMAGE = "This is not an image we can use. Upload a JPEG, PNG, GIF or WebP image."
TOO_MANY_PIXELS = (
    f"This image is too large to process: the limit is {MAX_PIXELS // 1_000_000} "
    f"megapixels, and {MAX_SIDE:,} pixels on either side. Make it smaller and upload it again."
)
DAMAGED = "This image is incomplete or damaged. Export it again and upload the new file."

SRGB = ImageCms.createProfile("sRGB")


class CleanedImage(ContentFile):
    """An image's re-encoded bytes, named after a fresh uuid and the format found in them."""

    def __init__(self, content, kind):
        extension, self.content_type = FORMATS[kind]
        super().__init__(content, name=f"{uuid4().hex}.{extension}")


def clean_upload(file, fit=None):
    """
    The image in file, re-encoded in the format it really is, or a ValidationError.

    Only the pixels are kept: appended bytes, comments, EXIF (GPS included) and XMP are
    gone, EXIF orientation is applied and colour is converted to sRGB. A still image
    larger than fit (width, height) is scaled down to fit; animations keep their size.
    """
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
    if file.size > limit:
        raise ValidationError(
            f"Images can be at most {megabytes(limit)}; this one is {megabytes(file.size)}."
        )
    file.seek(0)
    data = BytesIO(file.read())
    try:
        with Image.open(data, formats=list(FORMATS)) as image:
            kind = "JPEG" if image.format == "MPO" else image.format
            # An MPO's further pictures are depth or gain maps, not frames to show.
            frames = 1 if kind == "JPEG" else getattr(image, "n_frames", 1)
            check_size(image.size, frames)
            loop = image.info.get("loop")
            pixels, durations = decode(image, frames)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValidationError(TOO_MANY_PIXELS) from error
    except UnidentifiedImageError as error:
        raise ValidationError(NOT_AN_IMAGE) from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ValidationError(DAMAGED) from error
    if fit and len(pixels) == 1:
        pixels[0] = scaled_down(pixels[0], fit)
    return CleanedImage(encode(pixels, kind, durations, loop), kind)


def check_size(size, frames):
    width, height = size
    if width > MAX_SIDE or height > MAX_SIDE or width * height * frames > MAX_PIXELS:
        raise ValidationError(TOO_MANY_PIXELS)
    if frames > MAX_FRAMES:
        raise ValidationError(f"Animations can have at most {MAX_FRAMES:,} frames.")


def decode(image, frames):
    """Each frame's pixels, upright and in sRGB, with no metadata; and their durations."""
    icc = image.info.get("icc_profile")
    pixels, durations = [], []
    for index in range(frames):
        image.seek(index)
        # A GIF frame may reach past the canvas, which then grows.
        check_size(image.size, frames)
        clean = in_srgb(ImageOps.exif_transpose(image), icc)
        # Encoders fall back on the source's info for comments and profiles; keep only
        # the palette's transparent colour, which is part of the picture.
        transparency = image.info.get("transparency") if clean.mode in {"P", "L", "RGB"} else None
        clean.info = {} if transparency is None else {"transparency": transparency}
        pixels.append(clean)
        durations.append(image.info.get("duration", 100))
    return pixels, durations


def in_srgb(image, icc):
    """
    The pixels converted from their colour profile to sRGB, which browsers assume.

    Storing the profile instead would keep a block of the sender's bytes in the file;
    dropping it alone would dull every wide-gamut phone photo (Display P3).
    """
    if icc and image.mode in {"RGB", "RGBA", "CMYK"}:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc))
            mode = "RGBA" if image.mode == "RGBA" else "RGB"
            return ImageCms.profileToProfile(image, source, SRGB, outputMode=mode)
        except ImageCms.PyCMSError:
            pass  # an unreadable or mismatched profile: keep the pixels as they are
    return image.convert("RGB") if image.mode == "CMYK" else image


def scaled_down(image, fit):
    if image.width <= fit[0] and image.height <= fit[1]:
        return image
    if image.mode in {"P", "1"}:
        # Palette and 1-bit images would be resized without smoothing.
        image = image.convert("RGBA")
    image.thumbnail(fit, Image.Resampling.LANCZOS)
    return image


def encode(pixels, kind, durations, loop):
    options = {"JPEG": {"quality": QUALITY}, "WEBP": {"quality": QUALITY}}.get(kind, {})
    if len(pixels) > 1:
        options.update(save_all=True, append_images=pixels[1:], duration=durations)
        if loop is not None:  # a GIF without a loop count plays once
            options["loop"] = loop
    output = BytesIO()
    pixels[0].save(output, kind, **options)
    return output.getvalue()


def megabytes(size):
    return f"{size / (1024 * 1024):.3g} MB"


class ImageUploadField(forms.FileField):
    """A form's image: refused with a message unless clean_upload can clean it."""

    def to_python(self, data):
        data = super().to_python(data)
        return None if data is None else clean_upload(data)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs["accept"] = ",".join(content_type for _, content_type in FORMATS.values())
        return attrs


class CleanImageFieldFile(ImageFieldFile):
    def save(self, name, content, save=True):
        # A script's or an import's file is cleaned here, as the admin's is in its form.
        if not isinstance(content, CleanedImage):
            content = clean_upload(content)
        super().save(content.name, content, save)


class CleanImageField(models.ImageField):
    """An ImageField that stores only images clean_upload made, whatever the caller."""

    attr_class = CleanImageFieldFile

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": ImageUploadField, **kwargs})


# --- What pages show: renditions, the social image, the share card ---------------------

SOCIAL_SIZE = (1200, 630)  # what Open Graph and Twitter cards show best
FONTS = Path(__file__).resolve().parent / "fonts"  # DejaVu Sans, free licence (LICENSE)
CARD_COLOURS = {"background": "#1c1c1e", "text": "#fdfdfc", "muted": "#b9b9c0", "accent": "#b3261e"}
TITLE_SIZES = range(72, 39, -4)  # a card's title: the largest that fits, in pixels
LINE_HEIGHT = 1.22
DRAWING = Lock()  # the cached fonts are not for two threads at once


def resized(image, size):
    """The image at size, smoothed whatever its mode."""
    if image.mode not in {"RGB", "RGBA", "L", "LA"}:
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def social_crop(image):
    """The image cut to 1200×630 around its centre, as a JPEG (on white if transparent)."""
    fitted = ImageOps.fit(flattened(image), SOCIAL_SIZE, Image.Resampling.LANCZOS)
    return encode([fitted], "JPEG", [0], None)


def flattened(image):
    if not has_alpha(image):
        return image.convert("RGB")
    image = image.convert("RGBA")
    background = Image.new("RGB", image.size, "white")
    background.paste(image, mask=image.getchannel("A"))
    return background


def has_alpha(image):
    return image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info


def share_card(title, section, site_name):
    """A 1200×630 PNG for a post without an image: its section, title and the site's name."""
    with DRAWING:
        return drawn_card(title, section, site_name)


def drawn_card(title, section, site_name):
    width, height = SOCIAL_SIZE
    margin = 80
    card = Image.new("RGB", SOCIAL_SIZE, CARD_COLOURS["background"])
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, width, 14), fill=CARD_COLOURS["accent"])
    label = font("DejaVuSans-Bold.ttf", 30)
    draw.text(
        (margin, 78),
        one_line(section.upper(), label, width - 2 * margin),
        font=label,
        fill=CARD_COLOURS["muted"],
    )
    # The title takes the largest size at which it fits the space between the two.
    box_top, box_bottom = 150, height - 150
    size, lines = fitted(title, width - 2 * margin, box_bottom - box_top)
    title_font = font("DejaVuSans-Bold.ttf", size)
    for number, line in enumerate(lines):
        y = box_top + round(number * size * LINE_HEIGHT)
        draw.text((margin, y), line, font=title_font, fill=CARD_COLOURS["text"])
    draw.line((margin, height - 110, width - margin, height - 110), fill=CARD_COLOURS["muted"])
    name = font("DejaVuSans.ttf", 32)
    draw.text(
        (margin, height - 88),
        one_line(site_name, name, width - 2 * margin),
        font=name,
        fill=CARD_COLOURS["text"],
    )
    output = BytesIO()
    card.save(output, "PNG", optimize=True)
    return output.getvalue()


def fitted(text, width, height):
    """(font size, lines): the largest title size at which the text fits the box, else
    the smallest, its last line cut short with an ellipsis."""
    for size in TITLE_SIZES:
        lines = wrapped(text, font("DejaVuSans-Bold.ttf", size), width)
        if len(lines) * size * LINE_HEIGHT <= height:
            return size, lines
    room = max(1, int(height // (size * LINE_HEIGHT)))
    if len(lines) > room:
        last = font("DejaVuSans-Bold.ttf", size)
        lines = [
            *lines[: room - 1],
            one_line(f"{lines[room - 1]} {lines[room]}", last, width, True),
        ]
    return size, lines


def wrapped(text, face, width):
    """The text in lines no wider than width, broken between words (inside a word only
    when it is longer than a line, as a URL or a long compound can be)."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if face.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while face.getlength(word) > width:
            fits = (n for n in range(len(word) - 1, 1, -1) if face.getlength(word[:n]) <= width)
            cut = next(fits, 1)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def one_line(text, face, width, ellipsis=False):
    """The text cut to fit one line, ending with an ellipsis when something was cut."""
    text = " ".join(text.split())
    if not ellipsis and face.getlength(text) <= width:
        return text
    while text and face.getlength(f"{text}…") > width:
        text = text[:-1].rstrip()
    return f"{text}…"


@cache
def font(name, size):
    return ImageFont.truetype(str(FONTS / name), size)
