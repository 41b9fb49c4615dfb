"""Django admin for the secretariat: reference data and accounts. Postings' lifecycle goes through the
validation queue (services), so status fields are read-only here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

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


@admin.register(User)
class UserAdmin(SecretariatAdmin, BaseUserAdmin):
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
class OrganizationAdmin(SecretariatAdmin):
    list_display = ["name", "type", "country"]
    list_filter = ["type"]
    search_fields = ["name", "acronym"]
    inlines = [MembershipInline]


@admin.register(FocalPointAssignment)
class FocalPointAssignmentAdmin(SecretariatAdmin):
    list_display = ["user", "party", "granted_by", "granted_at"]
    autocomplete_fields = ["user", "party"]


class PostingAdmin(SecretariatAdmin):
    list_display = ["title", "language", "status", "closed_reason", "expires_on"]
    list_filter = ["status", "language"]
    search_fields = ["title", "description"]
    readonly_fields = ["status", "closed_reason", "submitted_at", "published_at", "closed_at", "created_by"]


admin.site.register(Need, PostingAdmin)
admin.site.register(Offer, PostingAdmin)
admin.site.register([Subregion, VocabularyRelease, ExpertProfile, FocalPointRequest], SecretariatAdmin)
