"""Checks and cleans uploaded images: JPEG, PNG, GIF or WebP only, re-encoded, newly named."""

from io import BytesIO
from uuid import uuid4

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.db.models.fields.files import ImageFieldFile
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

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
