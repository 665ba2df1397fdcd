-- Speaking for the company in public (the status page and every webhook subscriber) is a
-- capability admins grant per person; admins hold it by their role. Claiming or being
-- given the communications-liaison role needs it, and so do public updates and component
-- impacts, besides being the incident's commander or liaison.
ALTER TABLE users ADD COLUMN may_publish BOOLEAN NOT NULL DEFAULT false;
