"""What people receive: notices rendered from templates (``render``), calendar invitations
(``calendar``) and their delivery by SMTP or into an outbox folder (``transport``).

Import the submodules you need; this package imports nothing itself.
"""
