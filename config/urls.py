from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("dealer/reports/", include("reports.urls")),
    path("dealer/", include("dealers.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("leads.api.urls")),
    # Public documentation (it holds no data): a channel token in the header is not checked.
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[]), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", authentication_classes=[]),
        name="api-docs",
    ),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
