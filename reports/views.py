"""Owner-facing pages: the report form and its thank-you page (the status pages are public.views)."""

from datetime import timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from common.metrics import report_outcome

from . import intake_log
from .api.throttles import ReportFormThrottle
from .catalog import catalog
from .fingerprint import client_address, reporter_fingerprint
from .forms import ReportForm
from .locale import country_from_accept_language
from .models import Report, Service
from .selectors import recent_report_count
from .services import report_submit


def report_form(request, slug: str):
    service = get_object_or_404(Service, slug=slug, active=True)
    entry = catalog.service(slug)
    if entry is None:
        raise Http404
    features = [(f.slug, f.name) for f in service.features.all()]
    if request.method == "POST":
        throttle = ReportFormThrottle()
        if not throttle.allow_request(request, None):
            response = HttpResponse(_("Too many reports from your network. Please wait a minute."), status=429)
            response["Retry-After"] = str(max(1, int(throttle.wait() or 60)))
            return response
        form = ReportForm(request.POST, service=entry, features=features)
        if form.is_bot():
            # Count nothing, and say so: a person whose browser filled the field must not be told it counted.
            return redirect(reverse("report-thanks", args=[slug]) + "?counted=0")
        if form.is_valid() and form.cleaned_item is not None:
            fingerprint = reporter_fingerprint(
                address=client_address(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
            )
            try:
                result = report_submit(item=form.cleaned_item, source=Report.Source.WEB, fingerprint=fingerprint)
            except intake_log.Unconfirmed:
                report_outcome(source=Report.Source.WEB, outcome="unconfirmed")
                # Stored, or not: the log did not confirm in time (reports.api.intake says why not a fallback).
                text = _("We could not confirm that your report was received. Sending it again is safe: it is "
                         "never counted twice.")  # fmt: skip
                response = HttpResponse(text, status=503)
                response["Retry-After"] = intake_log.RETRY_AFTER_UNCONFIRMED
                return response
            return redirect(reverse("report-thanks", args=[slug]) + f"?counted={int(result.counted)}")
    else:
        country = country_from_accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
        form = ReportForm(service=entry, features=features, initial={"country": country, "code": "none"})
    return render(request, "reports/report_form.html", {"service": service, "form": form})


def report_thanks(request, slug: str):
    service = get_object_or_404(Service, slug=slug, active=True)
    now = timezone.now()
    recent = recent_report_count(service_id=service.id, since=now - timedelta(hours=1), until=now)
    counted = request.GET.get("counted") != "0"
    # Others = everyone but the reporter, whose own report is in `recent` when counted.
    others = max(recent - 1, 0) if counted else recent
    return render(request, "reports/thanks.html", {"service": service, "others": others, "counted": counted})
