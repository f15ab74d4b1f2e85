// Renderer entry: mounts the Vue app with Pinia. Runs in Electron and in a plain browser alike.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import './styles.css'

createApp(App).use(createPinia()).mount('#app')
