"""The partnership's own writes, one module per concept: who keeps what (``ownership``), its
own settings and published statement (``settings``), its agencies (``agencies``), its
taxonomies (``taxonomies``), its people (``people``), their invitations (``invitations``),
the agencies' sign-in providers (``sign_in``) and the versions of its protocol
(``versions``). Each write is named ``<entity>_<action>``, takes ``actor=`` keyword-only, runs in
one transaction and writes its own audit verb there, in the trail of every partnership the
thing it touches belongs to. Pages, the people import, Django's admin, an agency's sign-in
and the command line all call these: each rule is here once."""
