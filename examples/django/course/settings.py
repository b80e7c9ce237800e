"""Settings of the course's app: the database comes from DB_HOST, DB_PORT, DB_NAME, DB_USER and
DB_PASS, exactly as in the course (DB_PASS_FILE too, for Kubernetes and Compose secrets, as pginit
reads it). There is no wait_for_db command: pginit waits instead."""
import os


def password():
    if "DB_PASS" in os.environ or "DB_PASS_FILE" not in os.environ:
        return os.environ.get("DB_PASS")
    with open(os.environ["DB_PASS_FILE"]) as f:
        return f.read().rstrip("\n")

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "not-a-secret-only-for-the-example")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "todos",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "course.urls"
WSGI_APPLICATION = "course.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("DB_HOST"),
        "PORT": os.environ.get("DB_PORT", "5432"),
        "NAME": os.environ.get("DB_NAME"),
        "USER": os.environ.get("DB_USER"),
        "PASSWORD": password(),
    }
}

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
