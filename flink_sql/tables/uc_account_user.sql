-- User account snapshots (several versions per id).
-- role: raw_source
create table uc_account_user (payload string);
