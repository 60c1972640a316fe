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
    /// The JS strings of the property names read, made once per validation: reusing a key
    /// handle spares V8 decoding and hashing the name again at every object.
    keys: std::cell::RefCell<Vec<(&'static str, sys::napi_value)>>,
}

fn is_plain_object(v: &Unknown) -> Result<bool> {
    Ok(v.get_type()? == ValueType::Object && !v.is_array()?)
}

impl<'env> Snapshot<'env> {
    pub fn new(env: &'env Env) -> Self {
        Snapshot {
            env,
            keys: Default::default(),
        }
    }

    fn key(&self, name: &'static str) -> Result<sys::napi_value> {
        if let Some((_, key)) = self.keys.borrow().iter().find(|(n, _)| *n == name) {
            return Ok(*key);
        }
        let key = unsafe { <&str as ToNapiValue>::to_napi_value(self.env.raw(), name) }?;
        self.keys.borrow_mut().push((name, key));
        Ok(key)
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

    fn get(&self, obj: &Object, name: &'static str) -> Result<Unknown<'env>> {
        let key = self.key(name)?;
        let mut value = ptr::null_mut();
        let status = unsafe { sys::napi_get_property(self.env.raw(), obj.raw(), key, &mut value) };
        if status != sys::Status::napi_ok {
            return Err(Error::new(
                Status::from(status),
                format!("Cannot read property {name}"),
            ));
        }
        Ok(unsafe { Unknown::from_raw_unchecked(self.env.raw(), value) })
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
        names: &[&'static str],
        read: impl Fn(&Self, &str, Unknown<'env>) -> Result<Option<Value>>,
    ) -> Result<Value> {
        let mut out = Map::new();
        for &name in names {
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
            let item: Unknown = obj.get_named_property(&key)?;
            out.insert(key, each(self, item)?.unwrap_or(Value::Null));
        }
        Ok(Some(Value::Object(out)))
    }

    fn flat(&self, v: Unknown<'env>, names: &[&'static str]) -> Result<Option<Value>> {
        if !is_plain_object(&v)? {
            return self.leaf(v);
        }
        let obj: Object = unsafe { v.cast()? };
        self.props(&obj, names, |s, _, item| s.leaf(item)).map(Some)
    }

    pub fn component(&self, v: Unknown<'env>) -> Result<Option<Value>> {
        self.flat(v, &schema::fields().component)
    }

    pub fn backup(&self, v: Unknown<'env>) -> Result<Option<Value>> {
        self.flat(v, &schema::fields().backup)
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
        self.props(&obj, &schema::fields().week, |s, name, item| match name {
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
        self.props(&obj, &schema::fields().phase, |s, name, item| match name {
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
        self.props(&obj, &schema::fields().tracker, |s, name, item| {
            if name == "phases" {
                return s.entries(item, |s, phase| s.phase(phase));
            }
            match schema::fields()
                .sections
                .iter()
                .find(|(section, _)| *section == name)
            {
                Some((_, fields)) => s.flat(item, fields),
                None => s.leaf(item),
            }
        })
        .map(Some)
    }
}
