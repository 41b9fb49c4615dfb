"""How pages show a match's score: in words for everyone (`fit`), the number beside it for the secretariat."""

from django import template

from matching.explanations import fit_label

register = template.Library()


@register.filter
def fit(score: float) -> str:
    return fit_label(score)
