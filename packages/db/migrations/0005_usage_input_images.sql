-- Images are priced (issue: per-image prices were stored but never charged). A usage record keeps the request's
-- input images (the usage event's `inputImages`), so its cost = tokens + per request + input_images × the price's
-- per_image_nano can be explained from the record itself. Rows stored before this count no images (default 0; a
-- constant default is a catalogue change, no table rewrite).
ALTER TABLE billing.usage_records
  ADD COLUMN input_images integer NOT NULL DEFAULT 0 CHECK (input_images >= 0);
