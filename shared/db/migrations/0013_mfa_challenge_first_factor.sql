-- A login's second step remembers how the first step was passed (a password, or a Google/GitHub
-- identity through Firebase), so the session's audit row names both: `google+totp`.
alter table mfa_challenges
  add column first_factor text not null default 'password'
  check (first_factor in ('password', 'google', 'github'));
