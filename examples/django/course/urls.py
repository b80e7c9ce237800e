from django.urls import path

from todos import views

urlpatterns = [
    path("", views.todo_list),
    path("todos/", views.todo_list),
]
