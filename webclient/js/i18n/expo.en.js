// expo UI texts (en). Every key must also exist in expo.zh-CN.js.
export default {
};
