-- The status page shows "<page name> status": the name is the company's or product's,
-- so the default must not itself end in "status".
ALTER TABLE status_settings ALTER COLUMN page_name SET DEFAULT 'Warroom';
UPDATE status_settings SET page_name = 'Warroom' WHERE page_name = 'Service status';
