"""`{% lead_image post %}`: a post's image with its renditions (blog/renditions.py)."""

from django import template

from blog import renditions

register = template.Library()


@register.inclusion_tag("blog/_lead_image.html")
def lead_image(post, placement="page"):
    """On the post's page ("page") the image is fetched first; in lists ("list") a
    thumbnail is fetched only when scrolled near."""
    return {"image": renditions.lead_image(post, placement), "placement": placement}
