terraform import keyward_tenant.model_owner model-owner
