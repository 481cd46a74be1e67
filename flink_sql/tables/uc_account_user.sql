-- User account snapshots (several versions per id).
-- role: raw_source
CREATE TABLE uc_account_user (payload STRING);
