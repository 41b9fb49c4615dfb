from rest_framework import serializers

from marketplace.models import Party, Term


class TermSerializer(serializers.ModelSerializer):
    class Meta:
        model = Term
        fields = ["scheme", "code", "group", "label_en", "label_fr", "label_es"]


class PartySerializer(serializers.ModelSerializer):
    subregion = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Party
        fields = ["code", "iso3", "name_en", "name_fr", "name_es", "region", "subregion"]


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    preferred_language = serializers.CharField()
    is_secretariat = serializers.BooleanField()
    is_expert = serializers.BooleanField()
    focal_point_for = serializers.ListField(child=serializers.CharField())
    organizations = serializers.ListField(child=serializers.CharField())
