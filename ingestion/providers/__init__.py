"""Price providers: each turns a symbol into a frame of daily bars, with no Django import."""
