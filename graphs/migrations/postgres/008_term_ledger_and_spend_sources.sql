-- The term ledger's facts (portfolio/ledger.py computes every date as of the day shown) and obligations by occurrence.
ALTER TABLE contracts ADD COLUMN IF NOT EXISTS renewal_kind TEXT;
ALTER TABLE contracts ADD COLUMN IF NOT EXISTS renewal_count INTEGER;
ALTER TABLE contracts ADD COLUMN IF NOT EXISTS until_terminated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contracts ADD COLUMN IF NOT EXISTS notice_months INTEGER;
ALTER TABLE contracts ADD COLUMN IF NOT EXISTS notice_fixed_day TEXT;
ALTER TABLE obligations ADD COLUMN IF NOT EXISTS offset_days INTEGER;
ALTER TABLE obligations ADD COLUMN IF NOT EXISTS anchor TEXT;
ALTER TABLE obligations ADD COLUMN IF NOT EXISTS owner_name TEXT;
ALTER TABLE obligation_events ADD COLUMN IF NOT EXISTS due_date TEXT;
ALTER TABLE obligation_events ADD COLUMN IF NOT EXISTS on_date TEXT;
-- ERP lines keep where they came from and their amount in the reporting currency; a flag names the export's line.
ALTER TABLE spend_lines ADD COLUMN IF NOT EXISTS source_file TEXT;
ALTER TABLE spend_lines ADD COLUMN IF NOT EXISTS source_line INTEGER;
ALTER TABLE spend_lines ADD COLUMN IF NOT EXISTS reporting_amount DOUBLE PRECISION;
ALTER TABLE spend_flags ADD COLUMN IF NOT EXISTS source TEXT;
