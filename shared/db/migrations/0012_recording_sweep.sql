-- Recordings sweep (issue 9): buffers that nothing else would ever delete.
-- last_frame_at: when the buffer last took a frame (written at most once a minute), so a recording
-- whose client went away can be stopped after RECORDING_IDLE_STOP_MINUTES of silence.
alter table recordings add column last_frame_at timestamptz;
-- buffer_discarded_at: set once the frame buffer of an archived recording is confirmed gone. Rows
-- archived before this column existed start null, so the sweep checks their buffers once too.
alter table recordings add column buffer_discarded_at timestamptz;

-- What the sweep looks up each hour; both indexes hold only the few rows it is looking for.
create index recordings_live_last_activity on recordings ((coalesce(last_frame_at, started_at)))
  where status = 'recording';
create index recordings_buffer_left on recordings (archived_at)
  where status = 'archived' and buffer_discarded_at is null;
