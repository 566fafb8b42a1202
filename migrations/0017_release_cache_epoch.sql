-- keyward 0017: the release cache's epoch (docs/performance.md "Per-replica cache of key rows"). Each
-- replica caches the rows a release reads per key (the key, its policy binding, the version's sealed
-- material). Any committed change to those rows, by keyward or by SQL from outside it, bumps one epoch
-- and notifies channel `keyward_release_cache` with the key id ('*': every key). A release commits only
-- if the epoch it reads in its own transaction is the one its cached rows were read at; otherwise it is
-- rolled back and judged again from the database. Runs unchanged on Postgres 15+ and PGlite.

CREATE TABLE release_cache_epoch (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  epoch bigint NOT NULL
);
INSERT INTO release_cache_epoch (singleton, epoch) VALUES (true, 0);

-- Bumps the epoch and names what changed. Called at commit (deferred constraint triggers): the epoch row
-- is locked only from then until the commit ends, and the bump commits exactly with the change.
CREATE FUNCTION release_cache_changed(changed text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE release_cache_epoch SET epoch = epoch + 1 WHERE singleton;
  PERFORM pg_notify('keyward_release_cache', changed);
END $$;

CREATE FUNCTION release_cache_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM release_cache_changed(OLD.id::text);
  ELSE
    PERFORM release_cache_changed(NEW.id::text);
    IF TG_OP = 'UPDATE' AND OLD.id IS DISTINCT FROM NEW.id THEN PERFORM release_cache_changed(OLD.id::text); END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION release_cache_version_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM release_cache_changed(OLD.key_id::text);
  ELSE
    PERFORM release_cache_changed(NEW.key_id::text);
    IF TG_OP = 'UPDATE' AND OLD.key_id IS DISTINCT FROM NEW.key_id THEN PERFORM release_cache_changed(OLD.key_id::text); END IF;
  END IF;
  RETURN NULL;
END $$;

-- A policy deleted (or undeleted) changes the binding of every key bound to it: every key.
CREATE FUNCTION release_cache_all_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM release_cache_changed('*');
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER release_cache_keys AFTER INSERT OR UPDATE OR DELETE ON keys
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION release_cache_key_changed();
CREATE CONSTRAINT TRIGGER release_cache_key_versions AFTER INSERT OR UPDATE OR DELETE ON key_versions
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION release_cache_version_changed();
CREATE CONSTRAINT TRIGGER release_cache_policies AFTER UPDATE OF id, deleted_at OR DELETE ON policies
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION release_cache_all_changed();
-- TRUNCATE has no row triggers: statement triggers, at once.
CREATE TRIGGER release_cache_keys_truncate AFTER TRUNCATE ON keys FOR EACH STATEMENT EXECUTE FUNCTION release_cache_all_changed();
CREATE TRIGGER release_cache_key_versions_truncate AFTER TRUNCATE ON key_versions FOR EACH STATEMENT EXECUTE FUNCTION release_cache_all_changed();
CREATE TRIGGER release_cache_policies_truncate AFTER TRUNCATE ON policies FOR EACH STATEMENT EXECUTE FUNCTION release_cache_all_changed();
