import streamlit as st

st.title("Iris explorer")
st.write("hello")
