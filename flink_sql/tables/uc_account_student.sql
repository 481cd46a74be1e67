-- Student account snapshots (several versions per id).
-- role: raw_source
CREATE TABLE uc_account_student (payload STRING);
