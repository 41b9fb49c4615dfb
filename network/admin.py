"""The partner registry, in the admin where the secretariat keeps reference data: register a partner,
"Harvest now", and read each partner's harvest log. Writes go through `network.services`."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace import permissions
from marketplace.admin import SecretariatAccess

from . import selectors, services
from .models import HarvestedPosting, HarvestLogEntry, Partner

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
    _Inline = admin.TabularInline[Any, Any]
else:
    _ModelAdmin = admin.ModelAdmin
    _Inline = admin.TabularInline


class LogInline(_Inline):
    model = HarvestLogEntry
    fields = ("at", "level", "identifier", "message")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-at", "-pk")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_secretariat(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Partner)
class PartnerAdmin(SecretariatAccess, _ModelAdmin):
    list_display = (
        "name",
        "base_url",
        "serves",
        "harvest_needs",
        "harvest_offers",
        "is_active",
        "last_harvest_at",
    )
    readonly_fields = ("organization", "harvested_until", "last_harvest_at", "resumption_token")
    actions = ["harvest_now"]
    inlines = [LogInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # its postings keep their provenance: make it inactive instead

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        data = {
            name: form.cleaned_data[name] for name in services.PARTNER_FIELDS if name in form.cleaned_data
        }
        try:
            saved = services.partner_save(user=request.user, data=data, partner=obj if change else None)  # type: ignore[arg-type]
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        obj.pk, obj.organization_id = saved.pk, saved.organization_id

    @admin.action(description="Harvest now")
    def harvest_now(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            services.harvest_now(user=request.user, partner=partner)  # type: ignore[arg-type]
        self.message_user(request, _("Harvest queued: the log below each partner tells what it did."))


@admin.register(HarvestedPosting)
class HarvestedPostingAdmin(SecretariatAccess, _ModelAdmin):
    list_display = ("identifier", "partner", "poster_name", "datestamp", "harvested_at")
    list_filter = ("partner",)
    actions = ["forward_matches"]

    @admin.action(description="Forward their suggested matches to the partner")
    def forward_matches(self, request: HttpRequest, queryset: QuerySet[HarvestedPosting]) -> None:
        """Each open match between a selected harvested posting and a local one, to the partner's contact
        (once per match)."""
        forwarded = 0
        for origin in queryset.select_related("partner"):
            for match in selectors.forwardable_matches(origin):
                forwarded += services.match_forward(user=request.user, match=match)  # type: ignore[arg-type]
        message = ngettext("%(count)s match forwarded.", "%(count)s matches forwarded.", forwarded)
        self.message_user(request, message % {"count": forwarded})

    readonly_fields = [field.name for field in HarvestedPosting._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
