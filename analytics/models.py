from django.db import models

from reports.models import Feature, Service


class Bucket(models.Model):
    """Reports counted per service, minute and slice (region, country, code, feature)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    region = models.CharField(max_length=8)
    country = models.CharField(max_length=2)
    code = models.CharField(max_length=32)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # Bucketing upserts absolute counts on this key, which is what makes
            # two concurrent runs (or a rerun) harmless.
            models.UniqueConstraint(
                fields=["service", "minute", "region", "country", "code", "feature"],
                name="bucket_unique_slice",
            ),
        ]
        # The unique constraint's index serves time series (service, minute range).

    def __str__(self) -> str:
        return f"{self.service_id} {self.minute:%Y-%m-%d %H:%M} {self.region}/{self.country}/{self.code}: {self.count}"


class BucketingState(models.Model):
    """Singleton row: up to which time buckets are complete."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # Every minute before this has been bucketed (as of the last run).
    bucketed_until = models.DateTimeField(null=True)
    # Reports received after this (minus the overlap) are still to be looked at.
    scanned_until = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"bucketed until {self.bucketed_until}"
