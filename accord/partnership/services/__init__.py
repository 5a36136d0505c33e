"""The partnership's own writes, one module per concept: who keeps what (``ownership``), its
people (``people``), their invitations (``invitations``) and the agencies' sign-in providers
(``sign_in``). Each write is named ``<entity>_<action>``, takes ``actor=`` keyword-only, runs in
one transaction and writes its own audit verb there, in the trail of every partnership the
thing it touches belongs to. Pages, the people import, Django's admin, an agency's sign-in
and the command line all call these: each rule is here once."""
