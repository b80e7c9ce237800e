from django.http import JsonResponse

from todos.models import Todo


def todo_list(request):
    """Every todo as JSON: {"todos": [{"id": 1, "title": "...", "done": false}, ...]}."""
    todos = list(Todo.objects.values("id", "title", "done"))
    return JsonResponse({"todos": todos})
