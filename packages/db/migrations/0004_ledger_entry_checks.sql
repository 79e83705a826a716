-- Ledger entries: their transaction and account are checked once per statement instead of row by row (issue 6,
-- ingestion speed; docs/adr/0009-billing-ledger.md). The two foreign keys of ledger_entries ran a referential check
-- per entry (a KEY SHARE row lock and its WAL record on the transaction and on the account, 2 per entry, 1,000
-- entries per 500-event batch): about a quarter of the ingest's Postgres time. The statement trigger that already
-- checks each statement's entries (sum to zero, all in one statement) now also refuses an entry whose transaction or
-- account does not exist. What a foreign key also guarantees from the other side (the referenced row cannot go
-- away or change its key) holds because ledger transactions are append-only (0002) and accounts, from now on, can
-- be neither deleted, truncated nor given another id (trigger below).
ALTER TABLE billing.ledger_entries
  DROP CONSTRAINT ledger_entries_transaction_id_fkey,
  DROP CONSTRAINT ledger_entries_account_id_fkey;

-- every statement inserting entries: each entry's transaction and account exist, each transaction it touches sums
-- to zero, and all of a transaction's entries come in that one statement (no entry can be added to a transaction
-- later). The lookups are scalar subqueries, so each is an index probe whatever the planner thinks of the
-- transition table's size (a join could pick a sequential scan of the whole ledger).
CREATE OR REPLACE FUNCTION billing.ledger_entries_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad bigint;
  bad_account text;
BEGIN
  SELECT n.transaction_id INTO bad
    FROM (SELECT DISTINCT transaction_id FROM new_entries) n
   WHERE (SELECT t.id FROM billing.ledger_transactions t WHERE t.id = n.transaction_id) IS NULL
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entry names transaction % that does not exist', bad USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT n.account_id INTO bad_account
    FROM (SELECT DISTINCT account_id FROM new_entries) n
   WHERE (SELECT a.id FROM billing.accounts a WHERE a.id = n.account_id) IS NULL
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entry names account % that does not exist', bad_account USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT transaction_id INTO bad FROM new_entries GROUP BY transaction_id HAVING sum(amount_nano_usd) <> 0 LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'ledger transaction % does not sum to zero', bad USING ERRCODE = 'check_violation';
  END IF;
  SELECT n.transaction_id INTO bad
    FROM (SELECT transaction_id, count(*) AS c FROM new_entries GROUP BY transaction_id) n
   WHERE (SELECT count(*) FROM billing.ledger_entries e WHERE e.transaction_id = n.transaction_id) <> n.c
   LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'ledger transaction % already had entries: a transaction is written in one statement', bad USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;

-- accounts are permanent: entries name them (no foreign key any more), balances and reports join on their id
CREATE FUNCTION billing.accounts_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'billing.accounts are permanent: % of an account id refused', TG_OP USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER accounts_permanent BEFORE UPDATE OR DELETE ON billing.accounts
  FOR EACH ROW EXECUTE FUNCTION billing.accounts_permanent();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON billing.accounts
  FOR EACH STATEMENT EXECUTE FUNCTION billing.accounts_permanent();
