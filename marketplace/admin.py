"""Django admin for the secretariat: reference data and accounts. Postings' lifecycle goes through the
validation queue (services), so status fields are read-only here. Roles, log-in addresses and passwords are
for superusers only, and every role granted or removed here is audited."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied

from core import audit

from . import permissions
from .models import (
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


class SecretariatAccess:
    """Secretariat staff manage the marketplace's data without needing per-model Django permissions."""

    def has_module_permission(self, request):
        return permissions.is_secretariat(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, *args):
        return permissions.is_secretariat(request.user) or super().has_view_permission(request, *args)

    def has_add_permission(self, request, *args):
        return permissions.is_secretariat(request.user) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, *args):
        return permissions.is_secretariat(request.user) or super().has_change_permission(request, *args)

    def has_delete_permission(self, request, *args):
        return permissions.is_secretariat(request.user) or super().has_delete_permission(request, *args)


class SecretariatAdmin(SecretariatAccess, admin.ModelAdmin):
    pass


def _audit_role_change(*, actor, action: str, target, before: dict, after: dict) -> None:
    """Record a role granted or removed through the admin; nothing when the roles are unchanged."""
    if before != after:
        audit.record(actor=actor, action=action, target=target, before=before, after=after)


# Who may log in as whom and with which powers: only superusers change these on a user.
_USER_ROLE_FIELDS = ("is_superuser", "is_staff", "is_secretariat", "groups", "user_permissions")
_NO_ROLES = {
    "is_superuser": False,
    "is_staff": False,
    "is_secretariat": False,
    "groups": [],
    "user_permissions": [],
}


def _user_roles(user: User) -> dict:
    """The user's roles as stored (JSON-safe, for the audit log)."""
    roles = audit.snapshot(user, ("is_superuser", "is_staff", "is_secretariat"))
    roles["groups"] = sorted(user.groups.values_list("name", flat=True))
    roles["user_permissions"] = sorted(
        f"{app_label}.{codename}"
        for app_label, codename in user.user_permissions.values_list("content_type__app_label", "codename")
    )
    return roles


def _organization_admins(organization: Organization) -> dict:
    return {
        "admins": sorted(
            OrganizationMembership.objects.filter(organization=organization, is_admin=True).values_list(
                "user_id", flat=True
            )
        )
    }


class RolesAuditedOnDelete:
    """Deleting a record (one, or in bulk) removes the roles it holds: each deletion is audited with
    ``roles_of`` before and ``no_roles`` after."""

    removal_action: str
    no_roles: dict

    def roles_of(self, obj) -> dict:
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            _audit_role_change(
                actor=request.user,
                action=self.removal_action,
                target=obj,
                before=self.roles_of(obj),
                after=self.no_roles,
            )
        super().delete_queryset(request, queryset)


@admin.register(User)
class UserAdmin(RolesAuditedOnDelete, SecretariatAdmin, BaseUserAdmin):
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

    def roles_of(self, obj) -> dict:
        return _user_roles(obj)

    def has_change_permission(self, request, obj=None):
        """Only a superuser changes a superuser's account (others would deactivate or rename it)."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        # No password field (nor its "reset password" link) for others.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        readonly += _USER_ROLE_FIELDS
        if obj is not None:  # the add form needs an e-mail; an existing account's is its log-in
            readonly += ["email", "password"]
        return readonly

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        # The roles as stored before this change; save_related audits them once the groups are saved.
        form.roles_before = _user_roles(User.objects.get(pk=obj.pk)) if change else _NO_ROLES
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _audit_role_change(
            actor=request.user,
            action="user_roles_change",
            target=form.instance,
            before=form.roles_before,
            after=_user_roles(form.instance),
        )


@admin.register(Term)
class TermAdmin(SecretariatAdmin):
    list_display = ["code", "scheme", "label_en", "label_fr", "label_es", "is_active"]
    list_filter = ["scheme", "is_active"]
    search_fields = ["code", "label_en", "label_fr", "label_es"]


@admin.register(Party)
class PartyAdmin(SecretariatAdmin):
    list_display = ["code", "name_en", "region", "subregion"]
    list_filter = ["region"]
    search_fields = ["code", "name_en", "name_fr", "name_es"]


class MembershipInline(SecretariatAccess, admin.TabularInline):
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

    def roles_of(self, obj) -> dict:
        return _organization_admins(obj)

    def save_related(self, request, form, formsets, change):
        before = _organization_admins(form.instance) if change else {"admins": []}
        super().save_related(request, form, formsets, change)
        _audit_role_change(
            actor=request.user,
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

    def roles_of(self, obj) -> dict:
        return audit.snapshot(obj, ("user", "party"))

    def get_readonly_fields(self, request, obj=None):
        """An assignment is granted or revoked, never moved to another person or Party."""
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + ["user", "party"] if obj is not None else readonly

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            _audit_role_change(
                actor=request.user,
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
