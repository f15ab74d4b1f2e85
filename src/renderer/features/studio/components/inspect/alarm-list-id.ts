// The Alarms card's element id: the alarm toast moves focus there.
export const ALARM_LIST_ID = 'alarm-list'
