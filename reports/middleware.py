from django.conf import settings
from django.http import JsonResponse


class BodySizeLimitMiddleware:
    """413 for oversized bodies, before anything reads them.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE answers 400 and only when the body
    is parsed; clients deserve to be told the real reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length must be an integer."}, status=400)
        bulk = request.path_info.startswith("/api/v1/reports/bulk")
        limit = settings.TREMOR_MAX_BULK_BODY_BYTES if bulk else settings.TREMOR_MAX_BODY_BYTES
        if length > limit:
            return JsonResponse({"detail": f"Request body is larger than {limit // 1024} KiB."}, status=413)
        return self.get_response(request)
