def handler(event, context):
    return {"message": f"Hello, {event.get('name', 'world')}!", "function": context.function_name}
