//! The part of a caller's JS value that validation looks at, read into a small
//! `serde_json::Value` with one napi call per property the schema names, instead of
//! serialising the whole tracker: a 6 MB tracker is mostly strings and arrays the schema
//! never inspects. Which properties are read comes from the shared table, so the snapshot
//! cannot miss one the validator checks.
//!
//! Leaves keep their kind and, for scalars, their value (`status` is checked against an
//! enum); an array or object that is not walked into becomes an empty one of the same kind,
//! which is all a type check needs. Repairs are then made on this snapshot and replayed on
//! the caller's object (see `validate.rs`); values are never copied back from the snapshot.
//! Values with no JSON form (functions, symbols, bigints) count as absent, as in
//! `JSON.stringify`; `NaN` and `Infinity` are numbers (their value is never needed).

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use serde_json::{Map, Value};
use session_resilience_core::validate::schema;

/// A read-only walker over JS values, for one validation.
pub struct Snapshot<'env> {
    env: &'env Env,
}

fn is_plain_object(v: &Unknown) -> Result<bool> {
    Ok(v.get_type()? == ValueType::Object && !v.is_array()?)
}

impl<'env> Snapshot<'env> {
    pub fn new(env: &'env Env) -> Self {
        Snapshot { env }
    }

    /// A value's kind (and scalar value); `None` when it is absent.
    fn leaf(&self, v: Unknown) -> Result<Option<Value>> {
        Ok(Some(match v.get_type()? {
            ValueType::Undefined | ValueType::Function | ValueType::Symbol | ValueType::BigInt => {
                return Ok(None)
            }
            ValueType::Null => Value::Null,
            ValueType::Boolean => Value::Bool(v.coerce_to_bool()?),
            ValueType::Number => {
                let n = unsafe { f64::from_napi_value(self.env.raw(), v.raw()) }?;
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .unwrap_or(Value::from(0))
            }
            ValueType::String => {
                Value::String(unsafe { String::from_napi_value(self.env.raw(), v.raw()) }?)
            }
            _ if v.is_array()? => Value::Array(Vec::new()),
            _ => Value::Object(Map::new()),
        }))
    }

    fn get(&self, obj: &Object, key: &str) -> Result<Unknown<'env>> {
        obj.get_named_property(key)
    }

    /// Own enumerable string keys, in `Object.keys` order.
    fn keys(&self, obj: &Object) -> Result<Vec<String>> {
        let mut names = ptr::null_mut();
        let status = unsafe {
            sys::napi_get_all_property_names(
                self.env.raw(),
                obj.raw(),
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut names,
            )
        };
        if status != sys::Status::napi_ok {
            return Err(Error::from_reason(
                "Cannot list the properties of an object",
            ));
        }
        let names = Object::from_raw(self.env.raw(), names);
        let len = names.get_array_length_unchecked()?;
        (0..len).map(|i| names.get_element::<String>(i)).collect()
    }

    /// The named properties of `obj` that are present, each read with `read`.
    fn props(
        &self,
        obj: &Object,
        names: impl IntoIterator<Item = &'static str>,
        read: impl Fn(&Self, &str, Unknown<'env>) -> Result<Option<Value>>,
    ) -> Result<Value> {
        let mut out = Map::new();
        for name in names {
            if out.contains_key(name) {
                continue;
            }
            if let Some(v) = read(self, name, self.get(obj, name)?)? {
                out.insert(name.to_string(), v);
            }
        }
        Ok(Value::Object(out))
    }

    /// `each` over the own entries of a plain object.
    fn entries(
        &self,
        v: Unknown<'env>,
        each: impl Fn(&Self, Unknown<'env>) -> Result<Option<Value>>,
    ) -> Result<Option<Value>> {
        if !is_plain_object(&v)? {
            return self.leaf(v);
        }
        let obj: Object = unsafe { v.cast()? };
        let mut out = Map::new();
        for key in self.keys(&obj)? {
            let item = self.get(&obj, &key)?;
            out.insert(key, each(self, item)?.unwrap_or(Value::Null));
        }
        Ok(Some(Value::Object(out)))
    }

    fn section_names(path: &[&str]) -> Vec<&'static str> {
        let mut names = schema::names(&[path, &["required"]].concat());
        if let Some(types) = schema::at(&[path, &["types"]].concat()).as_object() {
            names.extend(types.keys().map(String::as_str));
        }
        names
    }

    fn flat(&self, v: Unknown<'env>, table: &[&str]) -> Result<Option<Value>> {
        if !is_plain_object(&v)? {
            return self.leaf(v);
        }
        let obj: Object = unsafe { v.cast()? };
        self.props(&obj, Self::section_names(table), |s, _, item| s.leaf(item))
            .map(Some)
    }

    pub fn component(&self, v: Unknown<'env>) -> Result<Option<Value>> {
        self.flat(v, &["component"])
    }

    pub fn backup(&self, v: Unknown<'env>) -> Result<Option<Value>> {
        self.flat(v, &["backup"])
    }

    fn components(&self, v: Unknown<'env>) -> Result<Option<Value>> {
        if v.get_type()? == ValueType::Object && v.is_array()? {
            let arr: Object = unsafe { v.cast()? };
            let len = arr.get_array_length_unchecked()?;
            let mut items = Vec::with_capacity(len as usize);
            for i in 0..len {
                let item: Unknown = arr.get_element(i)?;
                items.push(self.component(item)?.unwrap_or(Value::Null));
            }
            return Ok(Some(Value::Array(items)));
        }
        // An object of components: converted to an array of its values by the repair.
        self.entries(v, |s, item| s.component(item))
    }

    fn week(&self, v: Unknown<'env>) -> Result<Option<Value>> {
        if !is_plain_object(&v)? {
            return self.leaf(v);
        }
        let obj: Object = unsafe { v.cast()? };
        let mut names = schema::names(&["week", "required"]);
        names.push("components");
        self.props(&obj, names, |s, name, item| match name {
            "components" => s.components(item),
            _ => s.leaf(item),
        })
        .map(Some)
    }

    fn phase(&self, v: Unknown<'env>) -> Result<Option<Value>> {
        if !is_plain_object(&v)? {
            return self.leaf(v);
        }
        let obj: Object = unsafe { v.cast()? };
        let mut names = schema::names(&["phase", "required"]);
        names.push("weeks");
        self.props(&obj, names, |s, name, item| match name {
            "weeks" => s.entries(item, |s, week| s.week(week)),
            _ => s.leaf(item),
        })
        .map(Some)
    }

    pub fn tracker(&self, v: Unknown<'env>) -> Result<Option<Value>> {
        if !is_plain_object(&v)? {
            return self.leaf(v);
        }
        let obj: Object = unsafe { v.cast()? };
        let mut names = schema::names(&["tracker", "required"]);
        names.extend(schema::names(&["tracker", "sections"]));
        self.props(&obj, names, |s, name, item| {
            if name == "phases" {
                return s.entries(item, |s, phase| s.phase(phase));
            }
            if schema::names(&["tracker", "sections"]).contains(&name) {
                return s.flat(item, &["tracker", name]);
            }
            s.leaf(item)
        })
        .map(Some)
    }
}
