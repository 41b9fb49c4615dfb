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
