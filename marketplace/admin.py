"""Django admin for the secretariat: reference data and accounts. Postings' lifecycle goes through the
validation queue (services), so status fields are read-only here. Roles, log-in addresses and passwords are
for superusers only, and every role granted or removed here is audited."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from core import audit

from . import permissions
from .models import (
    LABEL_LANGUAGES,
    ExpertProfile,
    FocalPointAssignment,
    FocalPointRequest,
    Need,
    Offer,
    Organization,
    OrganizationMembership,
    Party,
    Subregion,
    Term,
    User,
    VocabularyRelease,
)

# The stubs' admin classes are generic (by model), Django's are not subscriptable at run time: the bases
# below are parameterised for the type checker only. The mixins derive from object at run time.
if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec  # the stubs' type of a ModelAdmin's fieldsets

    _AdminBase = admin.options.BaseModelAdmin[Any]
    _ModelAdminBase = admin.ModelAdmin[Any]
    _ModelAdmin = admin.ModelAdmin[Any]
    _UserAdmin = BaseUserAdmin[User]
    _MembershipInlineBase = admin.TabularInline[OrganizationMembership, Organization]
else:
    _AdminBase = _ModelAdminBase = object
    _ModelAdmin = admin.ModelAdmin
    _UserAdmin = BaseUserAdmin
    _MembershipInlineBase = admin.TabularInline


def _staff(request: HttpRequest) -> User:
    """Who acts in the admin: always a signed-in person (the admin site lets only active staff in)."""
    return cast(User, request.user)


class SecretariatAccess(_AdminBase):
    """Secretariat staff manage the marketplace's data without needing per-model Django permissions."""

    # `*args`: the object, when Django gives one (an inline's add permission takes the parent object too).
    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.is_secretariat(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, *args: Any) -> bool:
        return permissions.is_secretariat(request.user) or super().has_view_permission(request, *args)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return permissions.is_secretariat(request.user) or super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, *args: Any) -> bool:
        return permissions.is_secretariat(request.user) or super().has_change_permission(request, *args)

    def has_delete_permission(self, request: HttpRequest, *args: Any) -> bool:
        return permissions.is_secretariat(request.user) or super().has_delete_permission(request, *args)


class SecretariatAdmin(SecretariatAccess, _ModelAdmin):
    pass


def _audit_role_change(
    *,
    actor: User,
    action: str,
    target: models.Model,
    before: Mapping[str, object],
    after: Mapping[str, object],
) -> None:
    """Record a role granted or removed through the admin; nothing when the roles are unchanged."""
    if before != after:
        audit.record(actor=actor, action=action, target=target, before=before, after=after)


# Who may log in as whom and with which powers: only superusers change these on a user.
_USER_ROLE_FIELDS = ("is_superuser", "is_staff", "is_secretariat", "groups", "user_permissions")
_NO_ROLES: audit.Snapshot = {
    "is_superuser": False,
    "is_staff": False,
    "is_secretariat": False,
    "groups": [],
    "user_permissions": [],
}


def _user_roles(user: User) -> audit.Snapshot:
    """The user's roles as stored (JSON-safe, for the audit log)."""
    roles = audit.snapshot(user, ("is_superuser", "is_staff", "is_secretariat"))
    roles["groups"] = sorted(user.groups.values_list("name", flat=True))
    roles["user_permissions"] = sorted(
        f"{app_label}.{codename}"
        for app_label, codename in user.user_permissions.values_list("content_type__app_label", "codename")
    )
    return roles


def _organization_admins(organization: Organization) -> audit.Snapshot:
    return {
        "admins": sorted(
            OrganizationMembership.objects.filter(organization=organization, is_admin=True).values_list(
                "user_id", flat=True
            )
        )
    }


class RolesAuditedOnDelete(_ModelAdminBase):
    """Deleting a record (one, or in bulk) removes the roles it holds: each deletion is audited with
    ``roles_of`` before and ``no_roles`` after."""

    removal_action: str
    no_roles: audit.Snapshot

    def roles_of(self, obj: Any) -> audit.Snapshot:
        raise NotImplementedError

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        self.delete_queryset(request, type(obj)._default_manager.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            _audit_role_change(
                actor=_staff(request),
                action=self.removal_action,
                target=obj,
                before=self.roles_of(obj),
                after=self.no_roles,
            )
        super().delete_queryset(request, queryset)


@admin.register(User)
class UserAdmin(RolesAuditedOnDelete, SecretariatAdmin, _UserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_secretariat", "is_staff", "is_active"]
    list_filter = ["is_secretariat", "is_staff", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "preferred_language"]}),
        ("Roles", {"fields": ["is_secretariat", "is_staff", "is_active", "is_superuser", "groups"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    removal_action, no_roles = "user_roles_change", _NO_ROLES

    def roles_of(self, obj: User) -> audit.Snapshot:
        return _user_roles(obj)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """Only a superuser changes a superuser's account (others would deactivate or rename it)."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> "_FieldsetSpec":
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        # No password field (nor its "reset password" link) for others.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        readonly += _USER_ROLE_FIELDS
        if obj is not None:  # the add form needs an e-mail; an existing account's is its log-in
            readonly += ["email", "password"]
        return readonly

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The roles as stored before this change; save_related audits them once the groups are saved.
        form.roles_before = _user_roles(User.objects.get(pk=obj.pk)) if change else _NO_ROLES
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        _audit_role_change(
            actor=_staff(request),
            action="user_roles_change",
            target=form.instance,
            before=form.roles_before,
            after=_user_roles(form.instance),
        )


@admin.register(Term)
class TermAdmin(SecretariatAdmin):
    list_display = ["code", "scheme", "label_en", "label_fr", "label_es", "is_active"]
    list_filter = ["scheme", "is_active"]
    search_fields = ["code", *(f"label_{language}" for language in LABEL_LANGUAGES)]


@admin.register(Party)
class PartyAdmin(SecretariatAdmin):
    list_display = ["code", "name_en", "region", "subregion"]
    list_filter = ["region"]
    search_fields = ["code", *(f"name_{language}" for language in LABEL_LANGUAGES)]


class MembershipInline(SecretariatAccess, _MembershipInlineBase):
    model = OrganizationMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(RolesAuditedOnDelete, SecretariatAdmin):
    list_display = ["name", "type", "country"]
    list_filter = ["type"]
    search_fields = ["name", "acronym"]
    inlines = [MembershipInline]
    # Decided in the validation queue, through the audited services.
    readonly_fields = ["approved_at", "approved_by", "rejected_at", "rejected_by", "decision_note"]
    removal_action, no_roles = "organization_admins_change", {"admins": []}

    def roles_of(self, obj: Organization) -> audit.Snapshot:
        return _organization_admins(obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        before = _organization_admins(form.instance) if change else {"admins": []}
        super().save_related(request, form, formsets, change)
        _audit_role_change(
            actor=_staff(request),
            action="organization_admins_change",
            target=form.instance,
            before=before,
            after=_organization_admins(form.instance),
        )


@admin.register(FocalPointAssignment)
class FocalPointAssignmentAdmin(RolesAuditedOnDelete, SecretariatAdmin):
    list_display = ["user", "party", "granted_by", "granted_at"]
    autocomplete_fields = ["user", "party"]
    readonly_fields = ["granted_by", "granted_at"]
    removal_action, no_roles = "focal_point_revoke", {}

    def roles_of(self, obj: FocalPointAssignment) -> audit.Snapshot:
        return audit.snapshot(obj, ("user", "party"))

    def get_readonly_fields(self, request: HttpRequest, obj: FocalPointAssignment | None = None) -> list[str]:
        """An assignment is granted or revoked, never moved to another person or Party."""
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + ["user", "party"] if obj is not None else readonly

    def save_model(self, request: HttpRequest, obj: FocalPointAssignment, form: Any, change: bool) -> None:
        if not change:
            obj.granted_by = _staff(request)
        super().save_model(request, obj, form, change)
        if not change:
            _audit_role_change(
                actor=_staff(request),
                action="focal_point_grant",
                target=obj,
                before=self.no_roles,
                after=self.roles_of(obj),
            )


class PostingAdmin(SecretariatAdmin):
    list_display = ["title", "language", "status", "closed_reason", "expires_on"]
    list_filter = ["status", "language"]
    search_fields = ["title", "description"]
    readonly_fields = ["status", "closed_reason", "submitted_at", "published_at", "closed_at", "created_by"]


admin.site.register(Need, PostingAdmin)
admin.site.register(Offer, PostingAdmin)
admin.site.register([Subregion, VocabularyRelease, ExpertProfile, FocalPointRequest], SecretariatAdmin)
