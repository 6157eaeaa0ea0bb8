from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalog import ServiceEntry
from .codes import COMMON_CODES, code_label
from .regions import country_choices, localized_country_choices
from .validation import ReportInput, validate_report

OTHER_CODE = "__other__"


class ReportForm(forms.Form):
    feature = forms.ChoiceField(label=_("What is not working?"), widget=forms.RadioSelect)
    code = forms.ChoiceField(label=_("Error code shown"), required=False)
    code_other = forms.CharField(label=_("Other code"), required=False, max_length=32)
    country = forms.ChoiceField(label=_("Your country"), choices=country_choices())
    comment = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=280, widget=forms.Textarea(attrs={"rows": 3})
    )
    # Honeypot: hidden from people by CSS, filled in by naive bots. Out of the tab order and
    # closed to autofill, so a person's browser never fills it in for them.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, service: ServiceEntry, features: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service
        self.fields["feature"].choices = features
        self.fields["country"].choices = localized_country_choices()
        self.fields["code"].choices = [(c, code_label(c)) for c in COMMON_CODES] + [(OTHER_CODE, _("Other…"))]
        self.cleaned_item: ReportInput | None = None

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def clean(self):
        data = super().clean()
        code = data.get("code") or "none"
        if code == OTHER_CODE:
            code = (data.get("code_other") or "").strip()
            if not code:
                self.add_error("code_other", _("Type the code the app showed, or pick one above."))
                return data
        raw = {
            "feature": data.get("feature"),
            "code": code,
            "country": data.get("country"),
            "comment": data.get("comment") or "",
        }
        if self.errors:
            return data
        item, errors = validate_report(raw, now=timezone.now(), service=self.service)
        for field, message in errors.items():
            self.add_error("code_other" if field == "code" else field if field in self.fields else None, message)
        self.cleaned_item = item
        return data
