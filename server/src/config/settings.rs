//! What every setting is (its variable, its key in the TOML file, its default and what it
//! means) and the one lookup that reads them: the environment first, then the file named
//! by `WARROOM_CONFIG`. Each integration declares its settings in its own module; `ALL`
//! lists them for `warroom check-config` and for the test that keeps the README's table
//! in agreement with the code.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context};

/// One setting.
#[derive(Debug)]
pub struct Setting {
    /// The environment variable (`<KIND>` stands for each identity provider's kind).
    pub var: &'static str,
    /// Its key in the TOML file (`section.key`), when it has one there.
    pub key: Option<&'static str>,
    /// The default, as the README shows it ("" when there is none).
    pub default: &'static str,
    /// What it does, in a line.
    pub doc: &'static str,
    /// Never printed (`check-config` redacts it).
    pub secret: bool,
}

impl Setting {
    /// A setting that is not a secret.
    pub const fn new(
        var: &'static str,
        key: &'static str,
        default: &'static str,
        doc: &'static str,
    ) -> Setting {
        Setting {
            var,
            key: if key.is_empty() { None } else { Some(key) },
            default,
            doc,
            secret: false,
        }
    }

    /// The default as a value (for settings whose default is one).
    pub fn default_value<T: FromStr>(&self) -> T {
        self.default
            .parse()
            .unwrap_or_else(|_| panic!("the default of {} is not a value", self.var))
    }

    /// A secret: redacted wherever settings are shown.
    pub const fn secret(mut self) -> Setting {
        self.secret = true;
        self
    }
}

/// The TOML file itself.
pub const CONFIG_FILE: Setting = Setting::new(
    "WARROOM_CONFIG",
    "",
    "",
    "a TOML file with any of these settings; the environment overrides it (and adds to its lists)",
);

/// Every setting the server knows, module by module.
pub fn all() -> Vec<&'static Setting> {
    let mut all = vec![&CONFIG_FILE];
    for module in [
        super::server::SETTINGS,
        super::database::SETTINGS,
        super::auth::SETTINGS,
        super::status::SETTINGS,
        super::metrics::SETTINGS,
        super::site::SETTINGS,
    ] {
        all.extend(module.iter().copied());
    }
    all
}

/// Where a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Environment,
    File,
}

/// Reads settings from the environment (or a test's map) and the TOML file.
pub struct Lookup<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    file: toml::Table,
    path: Option<PathBuf>,
}

/// Sections of the file that a module deserialises itself (`auth`'s access lists and
/// providers, checked there); every other key must be a setting's `key`.
const STRUCTURED_SECTIONS: [&str; 2] = ["access", "providers"];

impl<'a> Lookup<'a> {
    /// Reads the file `WARROOM_CONFIG` names, if it names one, and checks that it holds
    /// only keys Warroom knows.
    pub fn new(env: &'a dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let path = env(CONFIG_FILE.var).map(PathBuf::from);
        let file = match &path {
            Some(path) => read_file(path)?,
            None => toml::Table::new(),
        };
        let lookup = Lookup { env, file, path };
        lookup.check_keys()?;
        Ok(lookup)
    }

    fn check_keys(&self) -> anyhow::Result<()> {
        let known: Vec<&str> = all().iter().filter_map(|s| s.key).collect();
        for (section, value) in &self.file {
            if STRUCTURED_SECTIONS.contains(&section.as_str()) {
                continue;
            }
            let Some(table) = value.as_table() else {
                bail!("{}: `{section}` must be a [section]", self.file_name());
            };
            for key in table.keys() {
                let full = format!("{section}.{key}");
                if !known.contains(&full.as_str()) {
                    bail!("{}: unknown setting `{full}`", self.file_name());
                }
            }
        }
        Ok(())
    }

    fn file_name(&self) -> String {
        match &self.path {
            Some(path) => format!("in WARROOM_CONFIG {}", path.display()),
            None => "in WARROOM_CONFIG".into(),
        }
    }

    /// A variable that is not a declared setting (a provider's `client_secret_env`, or a
    /// `<KIND>` variable).
    pub fn env(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.trim().is_empty())
    }

    /// A section of the file that a module deserialises itself.
    pub fn section<T: serde::de::DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> anyhow::Result<T> {
        match self.file.get(name) {
            Some(value) => value
                .clone()
                .try_into()
                .with_context(|| format!("{}: in [{name}]", self.file_name())),
            None => Ok(T::default()),
        }
    }

    /// The value given, and where: the environment first, then the file.
    pub fn given(&self, setting: &Setting) -> anyhow::Result<Option<(String, Origin)>> {
        if let Some(value) = self.env(setting.var) {
            return Ok(Some((value, Origin::Environment)));
        }
        let Some(key) = setting.key else {
            return Ok(None);
        };
        let (section, name) = key.split_once('.').expect("keys are section.key");
        let Some(value) = self.file.get(section).and_then(|s| s.get(name)) else {
            return Ok(None);
        };
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => bail!(
                        "{}: `{key}` must be a list of strings, got {other}",
                        self.file_name()
                    ),
                })
                .collect::<anyhow::Result<Vec<_>>>()?
                .join(","),
            other => bail!(
                "{}: `{key}` has an unexpected value {other}",
                self.file_name()
            ),
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some((text, Origin::File)))
    }

    /// The value given, if any.
    pub fn string(&self, setting: &Setting) -> anyhow::Result<Option<String>> {
        Ok(self.given(setting)?.map(|(value, _)| value))
    }

    /// The value given, else the setting's default.
    pub fn string_or_default(&self, setting: &Setting) -> anyhow::Result<String> {
        Ok(self
            .string(setting)?
            .unwrap_or_else(|| setting.default.to_string()))
    }

    /// `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`; off when not given.
    pub fn flag(&self, setting: &Setting) -> anyhow::Result<bool> {
        match self.string(setting)? {
            None => Ok(false),
            Some(value) => parse_flag(setting.var, &value),
        }
    }

    /// A parsed value, if given; a value that does not parse names the setting and `what`
    /// it should be.
    pub fn parsed<T: FromStr>(&self, setting: &Setting, what: &str) -> anyhow::Result<Option<T>> {
        match self.string(setting)? {
            None => Ok(None),
            Some(value) => match value.trim().parse() {
                Ok(parsed) => Ok(Some(parsed)),
                Err(_) => bail!("{} must be {what} (got {value:?})", setting.var),
            },
        }
    }

    /// A parsed value, else the setting's default.
    pub fn parsed_or_default<T: FromStr>(
        &self,
        setting: &Setting,
        what: &str,
    ) -> anyhow::Result<T> {
        match self.parsed(setting, what)? {
            Some(value) => Ok(value),
            None => Ok(setting.default_value()),
        }
    }

    /// A positive number, if given.
    pub fn positive(&self, setting: &Setting) -> anyhow::Result<Option<i64>> {
        match self.parsed::<i64>(setting, "a positive number")? {
            Some(n) if n <= 0 => bail!("{} must be a positive number (got {n})", setting.var),
            other => Ok(other),
        }
    }

    /// A comma-separated list (or a TOML array), trimmed, empty items dropped.
    pub fn list(&self, setting: &Setting) -> anyhow::Result<Vec<String>> {
        Ok(self
            .string(setting)?
            .map(|v| {
                v.split(',')
                    .map(|item| item.trim().to_string())
                    .filter(|item| !item.is_empty())
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// The one boolean parse of every setting.
pub fn parse_flag(name: &str, value: &str) -> anyhow::Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => bail!("{name} must be true or false (1/0, yes/no), got {other:?}"),
    }
}

fn read_file(path: &Path) -> anyhow::Result<toml::Table> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading WARROOM_CONFIG {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("in WARROOM_CONFIG {}", path.display()))
}
