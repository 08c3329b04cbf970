"""Template tags for the <head>: a block's text used twice, and addresses made absolute."""

from django import template
from django.utils.safestring import mark_safe

from blog import seo

register = template.Library()


class CaptureNode(template.Node):
    def __init__(self, nodelist, name):
        self.nodelist = nodelist
        self.name = name

    def render(self, context):
        # What the nodes rendered is already escaped: keep it as it is.
        context[self.name] = mark_safe(self.nodelist.render(context).strip())
        return ""


@register.tag
def capture(parser, token):
    """`{% capture as name %}…{% endcapture %}` renders its content once into `name`.

    base.html wraps its `title` and `description` blocks in it, so what a page puts in
    them also fills og:title and og:description: a block may appear only once.
    """
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("Usage: {% capture as name %}…{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])


@register.simple_tag(takes_context=True)
def page_url(context, page=None):
    """The page's canonical address; `{% page_url n %}`, the same list's page n."""
    if page is None and (page_obj := context.get("page_obj")):
        page = page_obj.number
    return seo.page_url(context["request"], page)


@register.simple_tag(takes_context=True)
def absolute_url(context, url):
    return seo.absolute(context["request"], url)


@register.simple_tag(takes_context=True)
def site_structured_data(context):
    return seo.site_structured_data(context["request"])


@register.simple_tag(takes_context=True)
def site_image(context):
    return seo.site_image(context["request"])
