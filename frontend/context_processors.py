from marketplace import permissions


def roles(request):
    """What the navigation needs to know about the visitor."""
    user = request.user
    return {"is_secretariat": permissions.is_secretariat(user)}
