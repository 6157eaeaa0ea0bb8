"""Content negotiation that reads an empty Accept header as "anything".

DRF answers `Accept:` with no value with 406, though the client asked for
nothing in particular (RFC 9110 treats a missing field as */*, and clients that
send an empty one mean the same). Any other Accept is negotiated as usual.
"""

from rest_framework.negotiation import DefaultContentNegotiation


class EmptyAcceptIsAny(DefaultContentNegotiation):
    def get_accept_list(self, request):
        if not request.META.get("HTTP_ACCEPT", "*/*").strip(" ,"):
            return ["*/*"]
        return super().get_accept_list(request)
