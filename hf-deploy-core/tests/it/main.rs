//! Tests of the library as a whole: what it may say, and what it makes public.

mod front_ends;
mod surface;
