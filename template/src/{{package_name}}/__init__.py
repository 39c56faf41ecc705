"""{{ project_description }}"""
