from django.apps import AppConfig


class PartnershipConfig(AppConfig):
    name = "accord.partnership"
    label = "partnership"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accord.core.directory import register_directory

        from .directory import PartnershipDirectory
        from .models import Partnership, PriorityTier, Stage, TimescaleBudget
        from .protocol import protocol_changed

        def part_changed(sender, instance, **kwargs) -> None:
            if not kwargs.get("raw"):
                protocol_changed(instance.partnership_id)

        def partnership_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
            ladder_fields = {"formal_body_name", "formal_body_authority"}
            if (
                kwargs.get("raw")
                or created
                or (update_fields is not None and not ladder_fields & set(update_fields))
            ):
                return
            protocol_changed(instance.pk)

        for model in (Stage, PriorityTier, TimescaleBudget):
            post_save.connect(
                part_changed, sender=model, weak=False, dispatch_uid=f"protocol-{model.__name__}-saved"
            )
            post_delete.connect(
                part_changed, sender=model, weak=False, dispatch_uid=f"protocol-{model.__name__}-deleted"
            )
        register_directory(PartnershipDirectory())
        post_save.connect(
            partnership_saved, sender=Partnership, weak=False, dispatch_uid="protocol-partnership-saved"
        )
