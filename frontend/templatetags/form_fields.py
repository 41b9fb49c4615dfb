"""How pages render form fields: where an error summary's link lands, and a posting form's folded lists."""

from django import template
from django.forms import CheckboxSelectMultiple
from django.forms.boundfield import BoundField

from frontend.forms import Fold, PostingForm

register = template.Library()


@register.filter
def error_anchor(field: BoundField) -> str:
    """The element id an error summary links to for `field`: the form's own choice (a folded list's first
    line), else a group of check boxes' first box, else the field itself."""
    anchors: dict[str, str] = getattr(field.form, "error_anchors", {})
    if field.name in anchors:
        return anchors[field.name]
    if isinstance(field.field.widget, CheckboxSelectMultiple):
        return f"{field.auto_id}_0"
    return str(field.auto_id)


@register.filter
def folds(form: PostingForm, name: str) -> list[Fold]:
    return form.folds(name)
